import { useEffect, useState } from "react";
import { Image, Skeleton } from "@mantine/core";
import QRCode from "qrcode";

/** A QR code drawn in the browser from the API's payload (nothing fetched from elsewhere). */
export function QrImage({ payload, alt, size = 240 }: { payload: string; alt: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(payload, { errorCorrectionLevel: "M", margin: 2, width: size })
      .then((url) => {
        if (live) setSrc(url);
      })
      .catch(() => {
        if (live) setSrc(null);
      });
    return () => {
      live = false;
    };
  }, [payload, size]);
  if (!src) return <Skeleton w={size} h={size} />;
  return <Image src={src} alt={alt} w={size} h={size} fit="contain" data-testid="qr-image" />;
}
