package main

import "os"

var m map[string]int

func store(k string) {
	m[k] = len(k)
}

func main() {
	store(os.Args[0])
}
