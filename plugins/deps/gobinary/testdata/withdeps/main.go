package main

import (
	"fmt"

	"github.com/package-url/packageurl-go"
)

func main() { fmt.Println(packageurl.TypeGolang) }
