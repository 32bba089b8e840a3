function f() { throw new Error('boom'); }
setTimeout(f, 1);
