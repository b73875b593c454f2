/**
 * celeriac: Celery, the distributed task queue, for Deno. Wire-compatible
 * with Python Celery 5.x (message protocol v2).
 *
 * @example
 * ```ts
 * import { Celery } from "@celeriac/celeriac";
 *
 * export const app = new Celery("proj", { broker: "memory://", backend: "memory://" });
 * export const add = app.task(function add(x: number, y: number) {
 *   return x + y;
 * });
 * const result = await add.apply([2, 3]);
 * console.log(await result.get()); // 5
 * ```
 *
 * @module
 */

export { Celery, type CeleryOptions } from "./src/app/celery.ts";
export { currentApp, sharedTask } from "./src/app/shared_task.ts";
export { setStrictMode } from "./src/app/current_app.ts";
export { Settings } from "./src/app/config.ts";
export type {
  BeatScheduleEntry,
  CeleryConfig,
  CelerySettings,
  QueueOptions,
  ResolvedConfig,
  RouteOptions,
} from "./src/app/settings.ts";
export type { SignalDetails, SignalEvent, SignalName } from "./src/app/signals.ts";
export { TaskRegistry } from "./src/app/registry.ts";
export { AsyncResult, type GetOptions, type ResultRevokeOptions } from "./src/task/async_result.ts";
export { EagerResult } from "./src/task/eager_result.ts";
export {
  type CanvasOptions,
  Signature,
  type SignatureApp,
  type SignatureOptions,
  type SubtaskType,
  type TaskSignature,
} from "./src/canvas/signature.ts";
export {
  type AnySignature,
  chain,
  chord,
  group,
  pipe,
  type ResultOf,
  signature,
} from "./src/canvas/primitives.ts";
export { type AnyResult, GroupResult, ResultSet } from "./src/canvas/group_result.ts";
export type { ParentResult } from "./src/canvas/result_tree.ts";
export type { ResultNode } from "./src/canvas/result_node.ts";
export type {
  ArgsAfterSelf,
  BoundTask,
  BoundTaskBody,
  BoundTaskFor,
  PlainTaskBody,
  Task,
  TaskBody,
  TaskDefinition,
  TaskFor,
} from "./src/task/task.ts";
export type { ApplyOptions, RetryOptions, TaskOptions } from "./src/task/options.ts";
export type { DeliveryInfo, TaskRequest } from "./src/task/request.ts";
export { describeRequest } from "./src/task/request.ts";
export { currentRequest } from "./src/task/current_request.ts";
export { RemoteError } from "./src/protocol/exceptions.ts";
export {
  BrokerConnectionError,
  CeleriacError,
  ConfigurationError,
  ContentDisallowed,
  Ignore,
  MaxRetriesExceededError,
  NoResultBackendError,
  NotRegistered,
  ProtocolError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TaskRevokedError,
  TimeLimitExceeded,
  TimeoutError,
  WorkerLostError,
} from "./src/errors.ts";
export type { TaskState } from "./src/backend/types.ts";
export type { Broker, Delivery, WireMessage } from "./src/broker/types.ts";
export type { ResultBackend } from "./src/backend/types.ts";
export { type LoggingOptions, type LogLevel, setupLogging } from "./src/log.ts";
export { crontab, type CrontabOptions } from "./src/beat/crontab.ts";
export { interval } from "./src/beat/interval.ts";
export { Control } from "./src/control/control.ts";
export type { BroadcastOptions, CommandOptions, RevokeOptions } from "./src/control/control.ts";
export { Inspect, type InspectOptions, type RequestInfo } from "./src/control/inspect.ts";
export { State, type StateOptions, type TaskInfo, type WorkerInfo } from "./src/events/state.ts";
export type { CeleryEvent, EventCommon, TaskEvent, WorkerEvent } from "./src/events/event_types.ts";
export type { AppEventsOptions } from "./src/events/app_events.ts";
export { LamportClock } from "./src/events/clock.ts";
