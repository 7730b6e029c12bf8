import t from 'tap';
import { apiRequests, renderMetrics, timeStore } from './metrics.ts';

t.test('metrics render in Prometheus text format', async (t) => {
  apiRequests.inc({ verb: 'LIST', group: '', resource: 'pods', code: '200' });
  await timeStore('get', async () => 1);
  const text = await renderMetrics();
  t.match(text, /apiserver_request_total\{verb="LIST",group="",resource="pods",code="200"\} 1/);
  t.match(text, /tsk_store_operation_duration_seconds_count\{operation="get"\} 1/);
  t.match(text, /# TYPE apiserver_request_duration_seconds histogram/);
});
