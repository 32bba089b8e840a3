class ConfigError extends Error {
  constructor(msg, opts) { super(msg, opts); this.name = 'ConfigError'; }
}
function load() {
  try {
    JSON.parse('{oops');
  } catch (e) {
    throw new ConfigError('bad config', { cause: e });
  }
}
load();
