package main

import (
	"fmt"
	"os"
)

type Server struct{ name string }

func (s *Server) handle(n int) {
	if n > 2 {
		panic(fmt.Sprintf("bad request %d from %s", n, s.name))
	}
	s.handle(n + 1)
}

func main() {
	s := &Server{name: os.Args[0][:1]}
	s.handle(0)
}
