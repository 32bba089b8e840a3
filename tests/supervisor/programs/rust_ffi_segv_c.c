// The C half of rust_ffi_segv.rs: writes through a null pointer.
int* volatile g_target = 0;

__attribute__((noinline)) void c_store(int value) {
  int* p = g_target;
  *p = value;  // FAULT-LINE
}
