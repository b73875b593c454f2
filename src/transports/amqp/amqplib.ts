/**
 * The one import of amqplib in celeriac (a narrow facade). It first installs
 * the field-table decoder of `amqplib_codec.ts`, which must run before
 * amqplib loads; ES modules evaluate imports in order.
 *
 * @module
 */

import "./amqplib_codec.ts";

export { connect } from "npm:amqplib@2.3.1";
export type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  Message,
  Options,
} from "npm:amqplib@2.3.1";
