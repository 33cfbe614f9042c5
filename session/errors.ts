/**
 * Error classes that callers of asyncmcp can catch and tell apart.
 *
 * @module
 */

import type { JsonRpcErrorObject } from "./envelope.ts";

/**
 * A message is larger than the broker or peer accepts, so it was not sent.
 *
 * @example Tell an oversized message from other failures
 * ```ts
 * import { MessageTooLargeError } from "@asyncmcp/asyncmcp";
 *
 * const error = new MessageTooLargeError(300_000, 262_144, "SNS Publish");
 * console.log(error instanceof MessageTooLargeError, error.sizeBytes);
 * ```
 */
export class MessageTooLargeError extends RangeError {
  /** The encoded size of the message, body and attributes, in bytes. */
  readonly sizeBytes: number;
  /** The largest size the destination accepts, in bytes. */
  readonly limitBytes: number;

  /** Describes a message of `sizeBytes` refused by a destination that takes at most `limitBytes`. */
  constructor(sizeBytes: number, limitBytes: number, destination: string) {
    super(
      `Cannot send message through ${destination} as it is too large: ` +
        `${sizeBytes} bytes, the limit is ${limitBytes} bytes`,
    );
    this.name = "MessageTooLargeError";
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** Facts about a failed broker call, kept on {@linkcode BrokerError}. */
export interface BrokerErrorDetails {
  /** The API operation, e.g. `SQS SendMessage`. */
  operation: string;
  /** The queue URL or topic ARN the call was about. */
  address: string;
  /** The AWS error code, e.g. `AWS.SimpleQueueService.NonExistentQueue`, when there is one. */
  code?: string;
  /** The HTTP status of the broker's answer, when there was one. */
  status?: number;
  /** Whether trying the same call again may succeed. */
  retryable: boolean;
}

/**
 * A call to SQS or SNS failed. Wraps the AWS SDK's error (in `cause`) with the operation and
 * address, so that the message alone says what went wrong where.
 *
 * @example Inspect a broker failure
 * ```ts
 * import { BrokerError } from "@asyncmcp/asyncmcp";
 *
 * const error = BrokerError.from(new Error("socket hang up"), {
 *   operation: "SQS SendMessage",
 *   address: "https://sqs.us-east-1.amazonaws.com/123456789012/requests",
 * });
 * console.log(error.retryable, error.message);
 * ```
 */
export class BrokerError extends Error {
  /** The API operation, e.g. `SQS ReceiveMessage`. */
  readonly operation: string;
  /** The queue URL or topic ARN the call was about. */
  readonly address: string;
  /** The AWS error code, when the broker answered with one. */
  readonly code?: string;
  /** The HTTP status of the broker's answer, when there was one. */
  readonly status?: number;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean;

  /** Wraps `cause`; prefer {@linkcode BrokerError.from}, which reads the AWS SDK's fields. */
  constructor(message: string, details: BrokerErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokerError";
    this.operation = details.operation;
    this.address = details.address;
    this.code = details.code;
    this.status = details.status;
    this.retryable = details.retryable;
  }

  /**
   * Turns the `Failed` list of a batch call into one error (or undefined) per entry, in order;
   * entries are identified by their index as `Id`.
   */
  static perEntry(
    count: number,
    failed:
      | ReadonlyArray<{ Id?: string; Code?: string; Message?: string; SenderFault?: boolean }>
      | undefined,
    where: { operation: string; address: string },
  ): Array<BrokerError | undefined> {
    const errors: Array<BrokerError | undefined> = new Array(count).fill(undefined);
    for (const entry of failed ?? []) {
      errors[Number(entry.Id)] = new BrokerError(
        `${where.operation} failed for ${where.address}: ${entry.Message ?? entry.Code}`,
        { ...where, code: entry.Code, retryable: entry.SenderFault !== true },
      );
    }
    return errors;
  }

  /** Builds a `BrokerError` from whatever the AWS SDK threw. */
  static from(
    cause: unknown,
    where: { operation: string; address: string },
  ): BrokerError {
    if (cause instanceof BrokerError) return cause;
    const aws = cause as {
      name?: string;
      message?: string;
      Code?: string;
      $metadata?: { httpStatusCode?: number };
      $retryable?: unknown;
      $fault?: string;
    };
    const status = aws?.$metadata?.httpStatusCode;
    const code = aws?.Code ?? (aws?.name && aws.name !== "Error" ? aws.name : undefined);
    const retryable = status === undefined || status >= 500 || status === 429 ||
      aws?.$retryable !== undefined || code === "ThrottlingException" ||
      code === "RequestThrottled";
    const detail = [code, status].filter((part) => part !== undefined).join(" ");
    return new BrokerError(
      `${where.operation} failed for ${where.address}: ${aws?.message ?? String(cause)}` +
        (detail ? ` (${detail})` : ""),
      { ...where, code, status, retryable },
      { cause },
    );
  }
}

/**
 * The connection to the server ended, or the transport was closed, before the operation finished.
 *
 * @example Recognise a closed transport
 * ```ts
 * import { TransportClosedError } from "@asyncmcp/asyncmcp";
 *
 * const error = new TransportClosedError("Cannot send message as the transport is closed");
 * console.log(error.name);
 * ```
 */
export class TransportClosedError extends Error {
  /** Creates the error with a message that says what could not be done. */
  constructor(message: string) {
    super(message);
    this.name = "TransportClosedError";
  }
}

/**
 * The receiving end refused a message outright and said why with a JSON-RPC error (an HTTP
 * server answering a POST with 4xx or 5xx). Client transports turn it into the error response of
 * the request it refused, so the caller gets the server's reason instead of waiting.
 *
 * @example
 * ```ts
 * import { MessageRefusedError } from "@asyncmcp/asyncmcp";
 *
 * const error = new MessageRefusedError({ code: -32001, message: "Session not found" }, 404);
 * console.log(error.error.code, error.status); // -32001 404
 * ```
 */
export class MessageRefusedError extends Error {
  /** The JSON-RPC error the receiver answered with. */
  readonly error: JsonRpcErrorObject;
  /** The HTTP status of the refusal, when it came over HTTP. */
  readonly status?: number;

  /** Wraps the receiver's JSON-RPC error. */
  constructor(error: JsonRpcErrorObject, status?: number) {
    super(
      `Message refused${status === undefined ? "" : ` with HTTP ${status}`}: ${error.message} ` +
        `(JSON-RPC error ${error.code})`,
    );
    this.name = "MessageRefusedError";
    this.error = error;
    this.status = status;
  }
}

/**
 * An outbox gave up on a message after its own retries (a webhook that kept failing). `permanent`
 * says whether the address refused it for good (trying again cannot help) or the failure may
 * pass; `deliveryId` is the id it travelled with, for sending it again without a duplicate.
 *
 * @example
 * ```ts
 * import { DeliveryFailedError } from "@asyncmcp/asyncmcp/session";
 *
 * const error = new DeliveryFailedError("Cannot deliver message: receiver unreachable", {
 *   permanent: false,
 *   deliveryId: "msg_1",
 * });
 * console.log(error.permanent); // false
 * ```
 */
export class DeliveryFailedError extends Error {
  /** True when the address refused the message for good. */
  readonly permanent: boolean;
  /** The id the message travelled with, when the outbox gives messages ids. */
  readonly deliveryId?: string;

  /** Describes a message that could not be delivered. */
  constructor(
    message: string,
    details: { permanent: boolean; deliveryId?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DeliveryFailedError";
    this.permanent = details.permanent;
    this.deliveryId = details.deliveryId;
  }
}
