import t from 'tap';
import { compareNatural, compareText } from './compare.ts';

t.test('comparators order like localeCompare for node names and addresses', async (t) => {
  const names = ['node-b', 'node-a', 'a/b', 'a-b', 'ab', 'node-10', 'node-2'];
  t.same([...names].sort(compareText), [...names].sort((a, b) => a.localeCompare(b)));
  const ips = ['10.0.0.10', '10.0.0.2', '10.0.1.1', '9.1.1.1', 'fd00::a', 'fd00::2', '10.0.0.2'];
  t.same([...ips].sort(compareNatural), [...ips].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  t.equal(compareNatural('10.0.0.2', '10.0.0.2'), 0);
});
