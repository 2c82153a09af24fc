module example.com/app

go 1.23

replace github.com/google/uuid v1.6.0 => github.com/google/uuid v1.5.0

replace example.com/local => ./local

exclude github.com/mattn/go-isatty v0.0.19

require (
	example.com/local v0.0.0-00010101000000-000000000000
	github.com/google/uuid v1.6.0
	github.com/rs/zerolog v1.35.1
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
