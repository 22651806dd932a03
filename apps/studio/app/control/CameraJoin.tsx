'use client';

import { useControlStore } from '../../stores/controlStore.ts';

export function CameraJoin() {
  const cameraUrl = useControlStore((s) => s.cameraUrl);
  const qrDataUrl = useControlStore((s) => s.qrDataUrl);
  return (
    <aside className="camera-join" aria-label="Add a camera">
      <h2>Add a camera</h2>
      {qrDataUrl ? (
        // biome-ignore lint/performance/noImgElement: a data: URL QR code needs no image optimisation
        <img src={qrDataUrl} alt="QR code for the camera join link" width={192} height={192} />
      ) : null}
      {cameraUrl ? (
        <a aria-label="Camera join link" href={cameraUrl} target="_blank" rel="noreferrer">
          {cameraUrl}
        </a>
      ) : null}
    </aside>
  );
}
