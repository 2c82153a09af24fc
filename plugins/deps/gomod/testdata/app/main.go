package main

import (
	"example.com/local"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

func main() { _ = uuid.New(); _ = zerolog.New(nil); local.F() }
