// A Go program that dereferences a nil pointer and recovers from the panic
// (the runtime turns the SIGSEGV into one), then exits 0: not a crash.
// `go_recover spin SECONDS` instead keeps two goroutines busy for that long
// (the runtime preempts them with SIGURG) and prints the work done;
// `go_recover work N` does N x 10^8 iterations over two goroutines
// (bench/trace_overhead.py times it).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type record struct{ value int }

//go:noinline
func load(r *record) int { return r.value }

func tryLoad(r *record) (v int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("recovered: %v", p)
		}
	}()
	return load(r), nil
}

func spin(seconds float64) {
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	counts := make([]uint64, 2)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := uint64(0)
			for time.Now().Before(deadline) {
				for i := 0; i < 100000; i++ {
					n += uint64(i % 7)
				}
			}
			counts[g] = n
		}(g)
	}
	wg.Wait()
	fmt.Printf("go_recover: spin %d\n", counts[0]+counts[1])
}

// TracerPid of /proc/self/status: whether crashctl still traces us.
func tracerPid() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "TracerPid:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "TracerPid:"))
		}
	}
	return "?"
}

func work(hundredMillions int) {
	var wg sync.WaitGroup
	counts := make([]uint64, 2)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := uint64(0)
			for r := 0; r < hundredMillions/2; r++ {
				for i := 0; i < 100000000; i++ {
					n += uint64(i % 7)
				}
			}
			counts[g] = n
		}(g)
	}
	wg.Wait()
	fmt.Printf("go_recover: work %d\n", counts[0]+counts[1])
}

func main() {
	fmt.Println("go_recover: TracerPid", tracerPid())
	if len(os.Args) > 2 && os.Args[1] == "work" {
		n, _ := strconv.Atoi(os.Args[2])
		work(n)
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "spin" {
		s, _ := strconv.ParseFloat(os.Args[2], 64)
		spin(s)
		return
	}
	var r *record
	_, err := tryLoad(r)
	fmt.Println("go_recover:", err)
	if err == nil {
		os.Exit(1)
	}
}
