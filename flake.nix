{
  description = "Qube desktop: a Qubes-style compartmentalized desktop for NixOS on KDE Plasma/Wayland";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in {
      packages = forAll (pkgs: rec {
        qube-desktop = pkgs.buildGoModule {
          pname = "qube-desktop";
          version = "0.1.0";
          src = ./.;
          # Checked by internal/nixhash's test against `go mod vendor`.
          vendorHash = "sha256-x6Os/SHNgF6th1iwgGBjiOy/n9f/kU2b8wWeZxT01cQ=";
          subPackages = [ "app/qvm" "app/qube-guid" "app/qube-agent" "app/qube-hostd" "app/qube-tray" "app/qube-manager" ];
          nativeBuildInputs = [ pkgs.pkg-config ];
          buildInputs = with pkgs; [ libGL xorg.libX11 xorg.libXcursor xorg.libXrandr xorg.libXinerama xorg.libXi xorg.libXxf86vm ];
          # Integration tests start compositors and X servers; they run in the project's CI instead.
          doCheck = false;
          postInstall = ''
            install -Dm644 assets/org.qubedesktop.QubeManager.desktop $out/share/applications/org.qubedesktop.QubeManager.desktop
            install -Dm644 assets/qube-manager.png $out/share/icons/hicolor/256x256/apps/org.qubedesktop.QubeManager.png
          '';
          meta = with pkgs.lib; {
            description = "Qubes-style compartmentalized desktop: Qube Manager, tray, GUI daemon and host daemon";
            license = licenses.gpl2Plus;
            platforms = platforms.linux;
            mainProgram = "qvm";
          };
        };
        default = qube-desktop;
      });

      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [ go gopls go-tools pkg-config libGL xorg.libX11 xorg.xorgserver bubblewrap weston sway grim waypipe ];
        };
      });
    };
}
