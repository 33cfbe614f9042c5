/**
 * The AWS client settings the command line takes from the environment, as the AWS CLI does:
 * `AWS_ENDPOINT_URL` (LocalStack), `AWS_REGION` or `AWS_DEFAULT_REGION`; credentials come from the
 * SDK's own chain.
 *
 * @module
 */

/**
 * Region and endpoint for `new SQSClient(...)` and `new SNSClient(...)`.
 *
 * @example
 * ```ts
 * import { awsConfig } from "./aws_config.ts";
 *
 * console.log(awsConfig().region); // "us-east-1" unless AWS_REGION says otherwise
 * ```
 */
export function awsConfig(): { region: string; endpoint?: string } {
  const endpoint = Deno.env.get("AWS_ENDPOINT_URL");
  return {
    region: Deno.env.get("AWS_REGION") ?? Deno.env.get("AWS_DEFAULT_REGION") ?? "us-east-1",
    ...(endpoint ? { endpoint } : {}),
  };
}
