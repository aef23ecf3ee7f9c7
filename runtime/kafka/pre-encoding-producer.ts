import { type API, type Callback, Producer, createAPI, kGetApi, produceV11 } from '@platformatic/kafka';
import { createProduceRequestV11 } from './produce-request.js';

/** Produce v11 with the request written in one Buffer (produce-request.ts), the client's response parser. */
const produceV11InOneBuffer = createAPI(0, 11, createProduceRequestV11, produceV11.parseResponse);

/**
 * The client's Producer, whose Produce requests (v11, the version it picks on Kafka 3.7 and later) are written by
 * produce-request.ts instead of its own writer: the same bytes for about a fifth of the CPU. Everything else is
 * the client's: partition leaders, idempotence sequences, retries, response errors. With another Produce version
 * (an older broker) the client's own API runs unchanged.
 */
export class PreEncodingProducer extends Producer {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(
    name: string,
    callback: Callback<API<RequestArguments, ResponseType>>,
  ): void {
    if (name !== 'Produce') {
      super[kGetApi](name, callback);
      return;
    }
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error || api !== (produceV11.api as unknown)) callback(error, api);
      else callback(null, produceV11InOneBuffer as unknown as API<RequestArguments, ResponseType>);
    });
  }
}
