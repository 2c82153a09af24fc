package main

import "github.com/rs/zerolog"

func main() { _ = zerolog.New(nil) }
