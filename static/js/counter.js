// Counter scan page: read a card's QR code with the camera (progressive enhancement).
// Without JavaScript or without a camera, the manual number form keeps working.
// The QR holds `{BASE_URL}/c/{12 digits}.{16 base32 chars}`; any host is accepted
// (cards carry the public address), but we always open the same-origin `/c/<code>`.

const CARD_PATH = /\/c\/(\d{12}\.[A-Z2-7]{16})\/?$/i;

/** The card code of a scanned text, or null when it is not one of our card URLs. */
export function cardCode(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const match = CARD_PATH.exec(url.pathname);
  return match ? match[1].toUpperCase() : null;
}

const config = document.querySelector('script[data-scanner-src]');
const root = document.querySelector('[data-scanner]');

if (config && root && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  const startButton = root.querySelector('[data-scan-start]');
  const stopButton = root.querySelector('[data-scan-stop]');
  const viewfinder = root.querySelector('[data-viewfinder]');
  const video = root.querySelector('[data-video]');
  const status = root.querySelector('[data-scan-status]');
  const manualInput = document.querySelector('form.manual input:not([type=hidden])');
  const data = config.dataset; // scannerSrc and the messages
  let scanner = null;
  let leaving = false;

  const say = (text) => {
    if (status.textContent !== text) status.textContent = text || '';
  };

  const showScanner = (on) => {
    viewfinder.hidden = !on;
    startButton.hidden = on;
  };

  const stop = () => {
    if (scanner) scanner.stop();
    showScanner(false);
  };

  const onDecode = (result) => {
    if (leaving) return;
    const code = cardCode(result && typeof result === 'object' ? result.data : result);
    if (!code) {
      say(data.msgNotCard);
      return;
    }
    leaving = true;
    scanner.stop();
    window.location.assign('/c/' + encodeURIComponent(code));
  };

  const cameraFailed = () => {
    stop();
    say(data.msgNoCamera);
    if (manualInput) manualInput.focus();
  };

  startButton.addEventListener('click', async () => {
    leaving = false;
    showScanner(true); // the video must be rendered for frames to be decoded
    stopButton.focus();
    say(data.msgScanning);
    try {
      if (!scanner) {
        const { default: QrScanner } = await import(data.scannerSrc);
        if (viewfinder.hidden) return; // stopped while the library was loading
        scanner = new QrScanner(video, onDecode, {
          preferredCamera: 'environment',
          returnDetailedScanResult: true,
          onDecodeError: () => {}, // "no QR code found" on most frames: not worth reporting
        });
      }
      await scanner.start();
    } catch {
      cameraFailed();
    }
  });

  stopButton.addEventListener('click', () => {
    stop();
    say('');
    startButton.focus();
  });

  // Release the camera when the page goes away (also into the back/forward cache).
  window.addEventListener('pagehide', () => {
    stop();
    leaving = false;
  });

  startButton.hidden = false;
}
