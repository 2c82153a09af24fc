package local

func F() {}
