package main

import "os"

type T struct{ x int }

func get(t *T) int { return t.x }

func main() {
	var t *T
	if len(os.Args) > 5 { t = &T{} }
	println(get(t))
}
