import assert from "node:assert/strict";
import { defaultEmbeddedUrl, parentDirectory, sqliteFilePath } from "./location.ts";

function withEnv(values: Record<string, string | undefined>, body: () => void): void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, Deno.env.get(k)]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
  };
  apply(values);
  try {
    body();
  } finally {
    apply(saved);
  }
}

Deno.test("defaultEmbeddedUrl: CELERIAC_HOME, then XDG_DATA_HOME, then ~/.local/share", () => {
  withEnv({ CELERIAC_HOME: "/srv/celeriac", XDG_DATA_HOME: "/xdg", HOME: "/home/u" }, () => {
    assert.equal(defaultEmbeddedUrl(), "sqlite:///srv/celeriac/embedded.sqlite3");
  });
  withEnv({ CELERIAC_HOME: undefined, XDG_DATA_HOME: "/xdg/", HOME: "/home/u" }, () => {
    assert.equal(defaultEmbeddedUrl(), "sqlite:///xdg/celeriac/embedded.sqlite3");
  });
  withEnv({ CELERIAC_HOME: undefined, XDG_DATA_HOME: undefined, HOME: "/home/u" }, () => {
    assert.equal(defaultEmbeddedUrl(), "sqlite:///home/u/.local/share/celeriac/embedded.sqlite3");
  });
  withEnv({ CELERIAC_HOME: "rel/dir", XDG_DATA_HOME: undefined }, () => {
    assert.equal(defaultEmbeddedUrl(), `sqlite://${Deno.cwd()}/rel/dir/embedded.sqlite3`);
  });
});

Deno.test("sqliteFilePath: absolute, relative, percent-encoded, Windows and default", () => {
  assert.equal(sqliteFilePath("sqlite:///var/lib/q.sqlite3"), "/var/lib/q.sqlite3");
  assert.equal(sqliteFilePath("sqlite://data/q.sqlite3"), `${Deno.cwd()}/data/q.sqlite3`);
  assert.equal(sqliteFilePath("sqlite:///tmp/a%20b.sqlite3?x=1"), "/tmp/a b.sqlite3");
  assert.equal(sqliteFilePath("sqlite:///C:/data/q.sqlite3"), "C:/data/q.sqlite3");
  withEnv({ CELERIAC_HOME: "/srv/c" }, () => {
    assert.equal(sqliteFilePath("sqlite://"), "/srv/c/embedded.sqlite3");
  });
  assert.throws(() => sqliteFilePath("redis://localhost"), /expected sqlite:\/\/\//);
  assert.equal(parentDirectory("/a/b/c.sqlite3"), "/a/b");
  assert.equal(parentDirectory("/c.sqlite3"), "/");
});
