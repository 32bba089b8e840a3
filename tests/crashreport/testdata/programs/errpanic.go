package main

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

type MyErr struct{ Code int }

func (e MyErr) Error() string { return fmt.Sprint(e.Code) }

func worker(wg *sync.WaitGroup) { defer wg.Done(); time.Sleep(time.Hour) }

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	go worker(&wg)
	defer func() {
		r := recover()
		panic(fmt.Errorf("wrapped: %v", r))
	}()
	panic(errors.New("first failure"))
}
