// A Node.js script that dies of an uncaught TypeError (exit status 1):
// main -> readName reads a property of undefined.
'use strict';

function readName(user) {
  return user.profile.name;  // READ-LINE
}

function main() {
  console.log('node_crash: reading');
  const users = {};
  return readName(users.alice);
}

main();
