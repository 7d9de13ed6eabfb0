// Loads a Hexo site the way `hexo generate` does and writes what Hexo made of each post as JSON.
// Usage: node read_site.js SITE_DIR OUT_JSON [--generate]
// Used by tests/test_hexo.py; `hexo` resolves from this folder's node_modules (npm ci, scripts/setup.sh).
"use strict";
const fs = require("fs");
const Hexo = require("hexo");

async function main() {
  const [base, out, mode] = process.argv.slice(2);
  const hexo = new Hexo(base, { silent: false, debug: false });
  hexo.env.init = true; // what hexo-cli sets in a folder it recognises as a Hexo site: load _config.yml and plugins
  await hexo.init();
  if (mode === "--generate") {
    await hexo.call("generate", {});
  } else {
    await hexo.load();
  }
  const posts = hexo.locals.get("posts").toArray().map((post) => ({
    source: post.source,
    title: post.title,
    date: post.date.toISOString(),
    categories: post.categories.map((category) => category.name),
    path: post.path,
    headimg: post.headimg || null,
    thumbnail: post.thumbnail || null,
  }));
  fs.writeFileSync(out, JSON.stringify({ posts, timezone: hexo.config.timezone }));
  await hexo.exit();
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
