// The help center's entry point: the query client around the portal, mounted on #root.
import { StrictMode } from 'react';
import { QueryClientProvider } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { newQueryClient } from '../lib/query';
import '../styles/help.css';
import { Help } from '../features/portal';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={newQueryClient()}>
        <Help />
      </QueryClientProvider>
    </StrictMode>,
  );
}
