// Package layers holds no code: its test checks that imports in this module
// run one way, downward through four layers:
//
//  1. cmd and e2e (the thin mains and the whole-system harnesses), and
//     builder/bench (the farm's benchmarks), which may import anything;
//  2. the farm side (builder, matrix), which builds and publishes modules,
//     and the host side (fetcher), which fetches, verifies, loads, installs
//     and watches them; neither side imports the other;
//  3. kmod: the module, its event ABI, modinfo, module signing, the OCI
//     artifact format, its stores and its signatures, which both sides read;
//  4. the helpers every layer may use: kmod/atomicfile (crash-safe
//     writes) and kmod/boundedio (capped reads).
//
// A package may import its own layer and those below it. The test reads the
// import graph with one `go list` and builds nothing, so it runs in
// `go test -short` too; a new package that matches no entry of its table
// fails it until it is given a layer.
package layers
