module example.com/bad

go 1.21

require (
	github.com/a/b v1.0.0
	github.com/c/d
)
