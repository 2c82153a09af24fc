module example.com/withdeps

go 1.22

require github.com/package-url/packageurl-go v0.1.7
