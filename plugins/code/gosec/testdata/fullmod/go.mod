module example.com/fullmod

go 1.22
