package main

import "os"

func pick(xs []int, i int) int {
	return xs[i]
}

func main() {
	xs := []int{1, 2, 3}
	println(pick(xs, len(os.Args)+4))
}
