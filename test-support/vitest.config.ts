import { packageTests } from '../vitest.shared.ts';

// The gates' own test; fixtures/ is run by it in a child vitest.
export default packageTests('test-support', { include: ['gates.test.ts', 'workspace-structure.test.ts'], testTimeout: 180_000 });
