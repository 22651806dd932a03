/**
 * Runs once per full page load, before React hydrates (Next.js's client instrumentation hook).
 * The watch page starts connecting here rather than in its effect, so the viewer's join overlaps
 * hydration; WatchView adopts that controller (controllers/watchController.ts).
 */
import { startWatchBeforeHydration } from './controllers/watchController.ts';

if (window.location.pathname === '/watch') {
  try {
    startWatchBeforeHydration();
  } catch (error) {
    // The page's effect starts the controller instead.
    console.warn('[watch] could not start before hydration', error);
  }
}
