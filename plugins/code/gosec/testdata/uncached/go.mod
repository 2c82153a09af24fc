module example.com/uncached

go 1.22

require example.invalid/notcached v1.0.0
