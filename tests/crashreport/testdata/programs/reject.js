async function fetchIt() {
  await new Promise((r) => setTimeout(r, 1));
  throw new RangeError('limit exceeded');
}
fetchIt();
