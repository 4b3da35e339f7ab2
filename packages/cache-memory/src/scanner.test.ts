import { describeScannerWithCache } from '@scanner/cache-conformance';
import { createMemoryCache } from './index.ts';

describeScannerWithCache('memory', ({ namespace }) => createMemoryCache({ namespace }));
