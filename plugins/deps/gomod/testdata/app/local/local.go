package local
func F() {}
