import { packageTests } from '../../vitest.shared.ts';

// The browser test opens the built site and a bench report in Chromium; snippet tests run the docs'
// code samples. Both need the built packages (and the browser test the built site: docs:build).
export default packageTests('docs', { testTimeout: 180_000 });
