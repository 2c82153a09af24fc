package sast

import (
	"strings"

	"github.com/shipgate/shipgate/plugins"
)

func inputOf(path, src string) *plugins.Input {
	return &plugins.Input{Path: path, Reader: strings.NewReader(src)}
}
