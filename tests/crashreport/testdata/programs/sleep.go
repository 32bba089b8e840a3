package main

import "time"

func wait(d time.Duration) { time.Sleep(d) }

func main() {
	go wait(time.Hour)
	wait(time.Hour)
}
