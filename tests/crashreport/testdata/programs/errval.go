package main

import "fmt"

func main() {
	panic(fmt.Errorf("open %s: %w", "/etc/x", fmt.Errorf("permission denied")))
}
