module example.com/old

go 1.16

require github.com/rs/zerolog v1.35.1
