// Package fullmod has planted issues that only gosec's full mode finds,
// each next to a look-alike that is fine.
package fullmod

import (
	"errors"
	"os"
)

// Clean removes a file and drops the error: G104.
func Clean(name string) {
	os.Remove(name)
}

// CleanChecked removes a file and returns the error: fine.
func CleanChecked(name string) error {
	if err := os.Remove(name); err != nil {
		return errors.Join(errors.New("clean"), err)
	}
	return nil
}

// CleanIgnored discards the error explicitly: fine.
func CleanIgnored(name string) {
	_ = os.Remove(name)
}
