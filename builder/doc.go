// Package builder turns build targets into kernel modules through the Docker
// Engine API: builder base images (pulled, or made with debootstrap and
// imported), one headers image per kernel cached by a recipe hash, one
// network-less container per build, and the farm that runs many builds in
// parallel behind a content-addressed Publisher.
package builder
