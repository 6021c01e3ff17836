//go:build !linux

package fetcher

import "errors"

func uname() (release, machine string, err error) {
	return "", "", errors.New("only Linux kernels are supported")
}
