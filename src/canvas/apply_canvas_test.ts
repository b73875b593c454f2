import assert from "node:assert/strict";
import { applyCanvas, type CanvasSender, type ChordJoin } from "./apply_canvas.ts";
import { chain, chord, group } from "./primitives.ts";
import { embedOf } from "./sender.ts";
import { Signature, toWire } from "./signature.ts";

interface Sent {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** A sender that records what would be published, in order (spec §1.4–§1.8 shapes). */
function recorder(chordJoin: ChordJoin = "native") {
  const sent: (Sent | { chordSize: [string, number] })[] = [];
  const tasks: Sent[] = [];
  const sender: CanvasSender = {
    replyTo: "reply-1",
    chordJoin,
    backendName: chordJoin === "unsupported" ? "rpc" : "redis",
    send(task, args, kwargs, options) {
      const item = { task, args, kwargs, options: toWire(options) as Record<string, unknown> };
      sent.push(item);
      tasks.push(item);
      return Promise.resolve();
    },
    setChordSize(groupId, size) {
      sent.push({ chordSize: [groupId, size] });
      return Promise.resolve();
    },
    saveGroup() {
      return Promise.resolve();
    },
  };
  return { sender, sent: tasks, all: sent };
}

const sig = (task: string, args: unknown[] = [], immutable = false) =>
  new Signature(`capapp.${task}`, args, {}, {}, null, immutable);

Deno.test("a chain publishes only its first step, the rest reversed in embed.chain (§1.5)", async () => {
  const { sender, sent } = recorder();
  const steps = chain(sig("add", [1, 1]), sig("mul", [3]), sig("add", [10, 10], true), sig("echo"));
  const node = await applyCanvas(steps, [], {}, {}, sender);
  assert.equal(sent.length, 1);
  const [first] = sent;
  assert.equal(first.task, "capapp.add");
  assert.deepEqual(first.args, [1, 1]);
  const embed = embedOf(first.options);
  assert.deepEqual(embed.chain?.map((s) => s.task), ["capapp.echo", "capapp.add", "capapp.mul"]);
  assert.deepEqual(embed.chain?.map((s) => s.immutable), [false, true, false]);
  for (const step of embed.chain!) {
    assert.match(String(step.options.task_id), /^[0-9a-f-]{36}$/);
    assert.equal(step.options.reply_to, "reply-1");
  }
  assert.equal(node.id, embed.chain![0].options.task_id, "the caller's id is the last step's");
  assert.equal(node.parent?.id, embed.chain![1].options.task_id);
});

Deno.test("a group publishes each member with its group id and no group_index (5.2.6, §1.6)", async () => {
  const { sender, sent } = recorder();
  const node = await applyCanvas(
    group([sig("add", [1, 1]), sig("add", [2, 2])]),
    [],
    {},
    {},
    sender,
  );
  assert.deepEqual(sent.map((s) => s.args), [[1, 1], [2, 2]]);
  for (const member of sent) {
    assert.equal(member.options.group_id, node.id);
    assert.equal(member.options.group_index, undefined);
  }
  assert.deepEqual(node.results?.map((r) => r.id), sent.map((s) => s.options.task_id));
});

Deno.test("a chord: header with group, group_index and chord = body; size stored before the last (§1.7)", async () => {
  const { sender, all } = recorder();
  const node = await applyCanvas(
    chord([sig("add", [1, 1]), sig("add", [2, 2])], sig("tsum")),
    [],
    {},
    {},
    sender,
  );
  const [first, size, last] = all as [Sent, { chordSize: [string, number] }, Sent];
  assert.deepEqual(size.chordSize, [first.options.group_id, 2]);
  assert.deepEqual([first.options.group_index, last.options.group_index], [0, 1]);
  const body = embedOf(first.options).chord!;
  assert.equal(body.task, "capapp.tsum");
  assert.equal(body.options.task_id, node.id, "the chord's id is its body's");
  assert.equal(node.parent?.id, first.options.group_id);
});

Deno.test("without a native join, a chord sends celery.chord_unlock first (§1.7)", async () => {
  const { sender, sent } = recorder("unlock");
  await applyCanvas(
    chord([sig("add", [1, 1]), sig("add", [2, 2])], sig("tsum")),
    [],
    {},
    {},
    sender,
  );
  const [unlock, ...header] = sent;
  assert.equal(unlock.task, "celery.chord_unlock");
  assert.equal(unlock.args[0], header[0].options.group_id);
  assert.equal((unlock.args[1] as Signature).task, "capapp.tsum");
  assert.deepEqual(unlock.kwargs, {
    interval: null,
    max_retries: null,
    result: header.map((h) => [[h.options.task_id, null], null]),
  });
  assert.equal(unlock.options.countdown, 1);
  assert.equal(unlock.options.ignore_result, true);
});

Deno.test("rpc:// refuses chords with Celery's message, also a group upgraded in a chain", async () => {
  const { sender, sent } = recorder("unsupported");
  const upgraded = chain(sig("add", [1, 1]), group([sig("add"), sig("add")]), sig("tsum"));
  for (const canvas of [chord([sig("add", [1, 1])], sig("tsum")), upgraded]) {
    await assert.rejects(applyCanvas(canvas, [], {}, {}, sender), (error: Error) => {
      assert.equal(error.name, "NotImplementedError");
      assert.match(error.message, /^The "rpc" result backend does not support chords!/);
      return true;
    });
  }
  assert.equal(sent.length, 0);
});

Deno.test("chunks send a group of celery.starmap, one per chunk (§1.8)", async () => {
  const { sender, sent } = recorder();
  const chunks = new Signature(
    "celery.chunks",
    [],
    {
      task: sig("add").toJSON(),
      it: [[1, 2], [3, 4], [5, 6]],
      n: 2,
    },
    {},
    null,
    true,
  );
  await applyCanvas(chunks, [], {}, {}, sender);
  assert.deepEqual(sent.map((s) => [s.task, (s.kwargs.it as unknown[]).length]), [
    ["celery.starmap", 2],
    ["celery.starmap", 1],
  ]);
  assert.equal(sent[0].options.group_id, sent[1].options.group_id);
});

Deno.test("link and link_error travel as embed callbacks and errbacks (§1.4)", async () => {
  const { sender, sent } = recorder();
  await applyCanvas(sig("add", [2, 2]), [], {}, {
    link: sig("echo", ["cb"]),
    link_error: [sig("on_err")],
  }, sender);
  const embed = embedOf(sent[0].options);
  assert.deepEqual(embed.callbacks?.map((s) => [s.task, s.args]), [["capapp.echo", ["cb"]]]);
  assert.deepEqual(embed.errbacks?.map((s) => s.task), ["capapp.on_err"]);
  assert.equal(embed.chain, null);
});
