'use strict';

function readName(user) {
  return user.profile.name;
}

function main() {
  const users = [{}];
  console.log(readName(users[0]));
}

main();
