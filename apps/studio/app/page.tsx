import Link from 'next/link';

export default function Home() {
  return (
    <main className="landing">
      <h1>Microstudio</h1>
      <p>A live studio in the browser: phones are cameras, one screen is the control room.</p>
      <nav aria-label="Studio pages">
        <ul>
          <li>
            <Link href="/camera">Camera</Link> — open on a phone to send its camera to the show.
          </li>
          <li>
            <Link href="/control">Control room</Link> — multiview, preview and program, cut and fade.
          </li>
          <li>
            <Link href="/watch">Watch</Link> — the program feed.
          </li>
        </ul>
      </nav>
    </main>
  );
}
