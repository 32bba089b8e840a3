// A Go program that dies of a runtime error, exit status 2:
// `go_crash index` indexes past the end of a slice (main.pick),
// `go_crash nilmap` writes to a nil map (main.record).
package main

import (
	"fmt"
	"os"
)

var sizes = []int{1, 2, 3}

//go:noinline
func pick(i int) int {
	return sizes[i] // INDEX-LINE
}

var counts map[string]int

//go:noinline
func record(key string) {
	counts[key]++ // NILMAP-LINE
}

func main() {
	mode := "index"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	fmt.Println("go_crash:", mode)
	switch mode {
	case "index":
		fmt.Println(pick(len(os.Args) + 4))
	case "nilmap":
		record("requests")
	}
}
