package main

import "fmt"

var keep [][]byte

func grow() {
	for i := 0; ; i++ {
		keep = append(keep, make([]byte, 64<<20))
		keep[i][0] = byte(i)
	}
}

func main() {
	grow()
	fmt.Println(len(keep))
}
