// Run by redelivery.test.ts in a child process that is SIGKILLed halfway through a repair: a lookup sink task that
// works through its re-delivery queue on its timer, at a low rate, until it is killed with no chance to clean up.
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { testContext } from './harness.js';

const { props, connector } = JSON.parse(process.argv[2]!) as { props: Record<string, string>; connector: string };
const task = new LookupSinkTask();
task.initialize({ ...testContext(), connectorName: connector });
await task.start(props);
process.stdout.write('started\n');
setInterval(() => {}, 1000);
