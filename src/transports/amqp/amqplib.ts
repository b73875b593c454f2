/**
 * The one import of amqplib in celeriac (a narrow facade). It first installs
 * the field-table decoder of `amqplib_codec.ts`, which must run before
 * amqplib loads; ES modules evaluate imports in order. It also hands a
 * publish's headers to amqplib as they are (`publish_fields.ts`).
 *
 * @module
 */

import "./amqplib_codec.ts";
import "./publish_fields.ts";
import "./mux_schedule.ts";

export { connect } from "npm:amqplib@2.3.1";
export type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  Message,
  Options,
} from "npm:amqplib@2.3.1";
