import { cleanup, render, screen } from '@testing-library/react';
import { lazy } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Loading } from './Loading';

describe('Loading', () => {
  afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
  });

  it('shows what arrived', async () => {
    const Part = lazy(async () => ({ default: () => <h1>Administration</h1> }));
    render(
      <Loading what="administration">
        <Part />
      </Loading>,
    );
    expect(screen.getByRole('status').textContent).toBe('Loading the administration…');
    expect(await screen.findByRole('heading', { name: 'Administration' })).toBeTruthy();
  });

  it('says so, and offers a reload, when a part of the page does not arrive', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const Part = lazy(() => Promise.reject(new TypeError('Failed to fetch dynamically imported module')));
    render(
      <>
        <p>The rest of the page</p>
        <Loading what="administration">
          <Part />
        </Loading>
      </>,
    );
    expect((await screen.findByRole('alert')).textContent).toContain('The administration did not load.');
    expect(screen.getByRole('button', { name: 'Reload the page' })).toBeTruthy();
    expect(screen.getByText('The rest of the page')).toBeTruthy();
  });
});
