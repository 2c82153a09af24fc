module example.com/hello

go 1.22

require example.com/lib v0.1.0

replace example.com/lib v0.1.0 => ./lib
